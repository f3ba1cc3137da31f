MATCH (n0:`Customer`)-[r0:`PLACED`]->(n1:`Order`)-[r1:`HAS_LINE`]->(n2:`OrderLine`)-[r2:`OF_PRODUCT`]->(n3:`Product`) WHERE (n3.`category` = $p0 AND n3.`productId` <> $p1)
WITH DISTINCT n0
WHERE n0.`satisfaction` < $p2
RETURN n0.`customerId` AS key
