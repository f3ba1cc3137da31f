"""The GraphQL schema, composed per domain, with its limits and error policy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry import relay
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from server.api.access import AccessMutations, AccessQueries
from server.api.common import decode_gid, field
from server.api.context import Info
from server.api.errors import ErrorCode, log_errors, with_code
from server.api.execution import AcyclicExecutionContext
from server.api.exports.mutations import ExportMutations
from server.api.exports.queries import ExportQueries
from server.api.exports.types import Export
from server.api.graph_schema import GraphSchemaQueries
from server.api.leads.mutations import LeadMutations
from server.api.leads.prediction import LeadModelMutations, LeadModelQueries
from server.api.leads.queries import LeadQueries
from server.api.live import LiveMutations, LiveQueries
from server.api.request_policy import RequestPolicy
from server.api.segments.differentiator_types import DifferentiatorQueries
from server.api.segments.expansion_mutations import ExpansionMutations
from server.api.segments.mutations import SegmentMutations
from server.api.segments.overlap_types import OverlapQueries
from server.api.segments.queries import SegmentQueries
from server.api.segments.split_mutations import SplitMutations
from server.api.segments.suggestion_types import SuggestionQueries
from server.api.segments.types import Segment
from server.api.subscriptions import Subscription
from server.settings import Settings

SDL_PATH = Path(__file__).with_name("schema.graphql")


@strawberry.type
class NodeQueries:
    # A plain resolver rather than `relay.node()`: that field mutates itself when a schema is
    # built, so a second app in the same process (tests, workers) could not build its schema.
    @field("Any object by its global id (segments and exports).")
    async def node(self, info: Info, id: strawberry.ID) -> relay.Node | None:
        if segment_id := decode_gid(id, "Segment"):
            return (await Segment.resolve_nodes(info=info, node_ids=[segment_id]))[0]
        if export_id := decode_gid(id, "Export"):
            return (await Export.resolve_nodes(info=info, node_ids=[export_id]))[0]
        return None


@strawberry.type
class Query(
    SegmentQueries,
    OverlapQueries,
    DifferentiatorQueries,
    SuggestionQueries,
    ExportQueries,
    GraphSchemaQueries,
    AccessQueries,
    LiveQueries,
    LeadQueries,
    LeadModelQueries,
    NodeQueries,
):
    pass


@strawberry.type
class Mutation(
    SegmentMutations,
    SplitMutations,
    ExpansionMutations,
    ExportMutations,
    LiveMutations,
    AccessMutations,
    LeadMutations,
    LeadModelMutations,
):
    pass


def _coded_limits(settings: Settings) -> list[type[ASTValidationRule]]:
    """strawberry's depth and alias validators with our codes; built once so the validation
    cache (keyed on the rule classes) hits across requests. The alias count follows
    fragment spreads, so aliases hidden in fragments count too."""
    depth = QueryDepthLimiter(max_depth=settings.graphql_max_depth).validation_rules
    aliases = MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases).validation_rules
    return [
        *(with_code(r, ErrorCode.QUERY_TOO_DEEP) for r in depth),
        *(with_code(r, ErrorCode.TOO_MANY_ALIASES) for r in aliases),
    ]


def extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Factories: strawberry builds fresh extensions per request (they hold its execution
    context): one, `RequestPolicy`, holds every limit, both caches and the error policy."""
    tokens = settings.graphql_max_tokens
    rules = _coded_limits(settings)
    found: list[Callable[[], SchemaExtension]] = [lambda: RequestPolicy(tokens, rules)]
    if settings.production:
        found.append(DisableIntrospection)
    return found


class Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        log_errors(errors)


def build_schema(settings: Settings) -> strawberry.Schema:
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions(settings),
        config=StrawberryConfig(auto_camel_case=True),
        execution_context_class=AcyclicExecutionContext,
    )


def export_sdl() -> str:
    """The SDL as committed in `schema.graphql` (limits do not change the SDL)."""
    schema = strawberry.Schema(query=Query, mutation=Mutation, subscription=Subscription)
    return schema.as_str() + "\n"


def main() -> None:
    SDL_PATH.write_text(export_sdl(), encoding="utf-8")


if __name__ == "__main__":
    main()
