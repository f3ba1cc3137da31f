MATCH (n0:`Customer`)
WHERE (n0.`name` = $p0 AND n0.`creditBalance` > $p1 AND n0.`satisfaction` <> $p2)
RETURN n0.`customerId` AS key
