OPTIONAL MATCH (s0:`_Segment` {`name`: $p1})
WITH s0, s0.`activeVersion` AS v0
MATCH (n0:`Customer`)
WHERE (n0.`city` = $p0 AND EXISTS { MATCH (s0)-[r0:`_MEMBER`]->(n0) WHERE r0.`since` <= v0 AND (r0.`until` IS NULL OR r0.`until` > v0) })
RETURN n0.`customerId` AS key
