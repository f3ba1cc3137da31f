MATCH (n0:`Customer`)-[r1:`RAISED`]->(n2:`Case`) WHERE (n2.`escalated` = $p3 AND (n2.`createdOn` >= $p4 AND n2.`createdOn` < $p5))
WITH DISTINCT n0
WHERE EXISTS { MATCH (n0)-[r0:`PLACED`]->(n1:`Order`) WHERE (n1.`total` > $p0 AND (n1.`placedAt` >= $p1 AND n1.`placedAt` < $p2)) }
RETURN n0.`customerId` AS key
