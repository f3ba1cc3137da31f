OPTIONAL MATCH (s0:`_Segment` {`name`: $p0})
OPTIONAL MATCH (s1:`_Segment` {`name`: $p1})
WITH s0, s0.`activeVersion` AS v0, s1, s1.`activeVersion` AS v1
MATCH (n0:`Customer`)
WHERE (EXISTS { MATCH (s0)-[r0:`_MEMBER`]->(n0) WHERE r0.`since` <= v0 AND (r0.`until` IS NULL OR r0.`until` > v0) } AND NOT EXISTS { MATCH (s1)-[r1:`_MEMBER`]->(n0) WHERE r1.`since` <= v1 AND (r1.`until` IS NULL OR r1.`until` > v1) })
RETURN n0.`customerId` AS key
