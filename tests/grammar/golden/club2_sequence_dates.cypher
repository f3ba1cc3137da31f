MATCH (n0:`ClubMember`)
WHERE (EXISTS { MATCH (n0)-[r0:`MADE`]->(n1:`Visit`) WHERE n1.`visitedOn` IS NOT NULL AND (n1.`visitedOn` >= $p0 AND n1.`visitedOn` < $p1) AND NOT EXISTS { MATCH (n0)-[r1:`MADE`]->(n2:`Visit`) WHERE n2.`visitedOn` > n1.`visitedOn` AND n2.`visitedOn` <= n1.`visitedOn` + duration({days: $p2}) } } AND EXISTS { MATCH (n0)-[r2:`OPENED`]->(n3:`Ticket`) WHERE n3.`openedAt` IS NOT NULL AND EXISTS { MATCH (n0)-[r3:`OPENED`]->(n4:`Ticket`) WHERE n4.`closedAt` > n3.`openedAt` AND n4.`closedAt` <= n3.`openedAt` + duration({days: $p3}) } })
RETURN n0.`memberId` AS key
