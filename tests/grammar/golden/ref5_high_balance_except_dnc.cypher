MATCH (n0:`Customer`)
WHERE (n0.`creditBalance` > $p0 AND NOT coalesce(n0.`doNotContact` = $p1, false))
RETURN n0.`customerId` AS key
