"""The depth, alias and token limits (and no introspection in production) of DESIGN "Identity and
security", with each operation text parsed and validated once per server rather than per request:
parsing and validating was a third of the server's CPU, and every subscription kept its own AST."""

from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial

from graphql import ASTValidationRule, DocumentNode, NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule

from api.settings import Settings

# An AST takes up to ~90 bytes per character of its text, so these bound the cache to ~25 MB
# however clients vary their texts, while holding every operation a desktop sends (each under
# 1,000 characters) many times over. Longer texts (inline literals) are rarely sent twice: they
# are checked each time and never kept.
MAX_DOCUMENTS = 256
MAX_DOCUMENT_CHARS = 16_384
MAX_CACHED_CHARS = 256 * 1024


@dataclass
class CheckedDocuments:
    """Documents that parsed within the token limit and passed validation, limits included, keyed
    by their exact text (least recently used evicted first). A document depends on its text only,
    and validation on the document and the schema's rules only (never on variables, the caller
    or the operation chosen), so one schema's answer for a text holds for every request: a hit
    skips parsing and validation, and every subscription with that text shares one AST. Only
    clean documents are kept, so an error is always produced afresh for its own request. One
    event loop touches this, with no await between a look-up and its use."""

    max_tokens: int
    rules: tuple[type[ASTValidationRule], ...]
    _documents: OrderedDict[str, DocumentNode] = field(default_factory=OrderedDict)
    _chars: int = 0

    def get(self, text: str) -> DocumentNode | None:
        document = self._documents.get(text)
        if document is not None:
            self._documents.move_to_end(text)
        return document

    def keep(self, text: str, document: DocumentNode) -> None:
        if len(text) > MAX_DOCUMENT_CHARS or text in self._documents:
            return
        self._documents[text] = document
        self._chars += len(text)
        while len(self._documents) > MAX_DOCUMENTS or self._chars > MAX_CACHED_CHARS:
            evicted, _ = self._documents.popitem(last=False)
            self._chars -= len(evicted)


class DocumentLimits(SchemaExtension):
    """Applies the limits around the schema's one ``CheckedDocuments``, whose rules are built
    once: Strawberry's limiter extensions build their rule classes per instance, so no validation
    cache could ever hit with them. Built per operation, like every extension (an instance
    serves one operation: strawberry-graphql/strawberry#4369); it remembers whether its own
    operation's text was already checked."""

    def __init__(self, documents: CheckedDocuments) -> None:
        self.documents = documents
        self.hit = False

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.documents.max_tokens
        context.validation_rules = context.validation_rules + self.documents.rules
        yield

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query and context.graphql_document is None:
            document = self.documents.get(context.query)
            if document is not None:
                context.graphql_document, self.hit = document, True
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if self.hit:
            context.pre_execution_errors = []  # Strawberry validates only while this is None
        yield
        if (
            not self.hit
            and context.query
            and context.graphql_document is not None
            and context.pre_execution_errors == []
        ):
            self.documents.keep(context.query, context.graphql_document)


def document_limits(settings: Settings) -> Callable[[], DocumentLimits]:
    """The extension factory for one schema: its cache answers for these limits only."""
    rules: list[type[ASTValidationRule]] = [
        depth_rule(settings.max_query_depth, None, None),
        aliases_rule(settings.max_aliases),
    ]
    if not settings.introspection_enabled:
        rules.append(NoSchemaIntrospectionCustomRule)
    documents = CheckedDocuments(max_tokens=settings.max_tokens, rules=tuple(rules))
    return partial(DocumentLimits, documents)
