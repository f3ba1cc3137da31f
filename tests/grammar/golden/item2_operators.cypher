MATCH (n0:`Customer`)
WHERE (n0.`city` <> $p0 AND n0.`satisfaction` <= $p1 AND n0.`satisfaction` >= $p2 AND (n0.`creditBalance` >= $p3 AND n0.`creditBalance` <= $p4) AND n0.`country` IN $p5 AND NOT (n0.`loyaltyTier` IN $p6) AND toLower(n0.`email`) ENDS WITH $p7 AND toLower(n0.`name`) STARTS WITH $p8 AND n0.`jobTitle` CONTAINS $p9 AND n0.`phone` =~ $p10 AND n0.`gender` IS NULL AND n0.`firstName` IS NOT NULL AND n0.`newsletter` = $p11 AND n0.`doNotContact` = $p12)
RETURN n0.`customerId` AS key
