MATCH (n0:`Customer`)
WHERE (EXISTS { MATCH (n1:`_Segment` {`name`: $p0})-[r0:`_MEMBER`]->(n0) WHERE r0.`since` <= n1.`activeVersion` AND (r0.`until` IS NULL OR r0.`until` > n1.`activeVersion`) } AND NOT EXISTS { MATCH (n2:`_Segment` {`name`: $p1})-[r1:`_MEMBER`]->(n0) WHERE r1.`since` <= n2.`activeVersion` AND (r1.`until` IS NULL OR r1.`until` > n2.`activeVersion`) })
RETURN n0.`customerId` AS key
