MATCH (n0:`Customer`)
WHERE (NOT (n0.`city` = $p0 OR n0.`city` = $p1) AND (n0.`satisfaction` > $p2 OR NOT n0.`newsletter` = $p3) AND NOT NOT EXISTS { MATCH (n0)-[r0:`RAISED`]->(n1:`Case`) })
RETURN n0.`customerId` AS key
