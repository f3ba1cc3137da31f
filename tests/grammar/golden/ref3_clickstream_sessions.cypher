MATCH (n0:`Customer`)
WHERE EXISTS { MATCH (n0)-[r0:`HAS_ONLINE_ACCOUNT`]->(n1:`OnlineAccount`)-[r1:`STARTED`]->(n2:`WebSession`) WHERE n2.`sessionId` <> $p0 }
RETURN n0.`customerId` AS key
