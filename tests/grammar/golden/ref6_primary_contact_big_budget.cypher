MATCH (n0:`Contact`)
WHERE EXISTS { MATCH (n0)-[r0:`WORKS_AT`]->(n1:`Account`) WHERE (n1.`budget` > $p0 AND r0.`isPrimary` = $p1) }
RETURN n0.`contactId` AS key
