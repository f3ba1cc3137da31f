MATCH (n0:`Account`)
WHERE (n0.`contractRenewalDate` >= $p0 AND n0.`contractRenewalDate` < $p1)
RETURN n0.`accountId` AS key
