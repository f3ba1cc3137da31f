"""Names the engine itself stores in the graph beside the user's data.

They all start with `RESERVED_PREFIX`, which a user schema may not use, so they never collide
with the user's labels. The segment language reads memberships through these names (for `in
segment`), and the refresh engine writes them: this module is the contract between the two.

Membership is versioned with validity intervals so a refresh writes only what changed and then
switches the segment's active version in one small transaction:

    (:_Segment {id, name, activeVersion})-[:_MEMBER {segmentId, key, since, until}]->(profile)

A member of version V is a `_MEMBER` relationship with `since <= V` and (`until` is null or
`until > V`). Readers follow `activeVersion` only, so a half-written version `V + 1` is invisible.
"""

SEGMENT_LABEL = "_Segment"
MEMBER_REL = "_MEMBER"
SEGMENT_ID = "id"
SEGMENT_NAME = "name"
ACTIVE_VERSION = "activeVersion"
MEMBER_SEGMENT_ID = "segmentId"
MEMBER_KEY = "key"
MEMBER_SINCE = "since"
MEMBER_UNTIL = "until"
