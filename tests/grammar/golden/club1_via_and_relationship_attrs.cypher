MATCH (n0:`ClubMember`)-[r0:`OPENED`]->(n1:`Ticket`) WHERE (n1.`severity` >= $p0 AND (n1.`openedAt` >= $p1 AND n1.`openedAt` < $p2))
WITH DISTINCT n0
WHERE COUNT { MATCH (n0)-[r1:`ASSIGNED`]->(n2:`Ticket`) RETURN DISTINCT n2 } > $p3 AND EXISTS { MATCH (n0)-[r2:`BELONGS_TO`]->(n3:`Household`) WHERE (r2.`role` = $p4 AND n3.`size` > $p5) } AND n0.`count` > $p6 AND n0.`vip` = $p7 AND (n0.`points` >= $p8 AND n0.`points` <= $p9)
RETURN n0.`memberId` AS key
