MATCH (n0:`Customer`)
WHERE (n0.`city` = $p0 AND EXISTS { MATCH (n1:`_Segment` {`name`: $p1})-[r0:`_MEMBER`]->(n0) WHERE r0.`since` <= n1.`activeVersion` AND (r0.`until` IS NULL OR r0.`until` > n1.`activeVersion`) })
RETURN n0.`customerId` AS key
