MATCH (n0:`Customer`)
WHERE (COLLECT { MATCH (n0)-[r0:`PLACED`]->(n1:`Order`) WHERE (n1.`placedAt` >= $p0 AND n1.`placedAt` < $p1) WITH DISTINCT n1 RETURN sum(n1.`total`) }[0] > $p2 AND NOT EXISTS { MATCH (n0)-[r1:`RECEIVED`]->(n2:`EmailEvent`) WHERE (n2.`type` IN $p3 AND (n2.`at` >= $p4 AND n2.`at` < $p5)) })
RETURN n0.`customerId` AS key
