MATCH (n0:`Customer`)
WHERE (((n0.`city` = $p0 OR n0.`city` = $p1) AND n0.`newsletter` = $p2) AND NOT coalesce(n0.`doNotContact` = $p3, false))
RETURN n0.`customerId` AS key
