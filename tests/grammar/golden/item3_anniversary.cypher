MATCH (n0:`Customer`)
WHERE ((n0.`birthDate`.month * 100 + n0.`birthDate`.day) IN $p0 OR (n0.`birthDate`.month * 100 + n0.`birthDate`.day) IN $p1 OR (n0.`birthDate`.month * 100 + n0.`birthDate`.day) IN $p2)
RETURN n0.`customerId` AS key
