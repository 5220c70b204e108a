"""Embedding model ids: `<provider>/<model>/<dimensions>` or `wordllama/<config>-<dimensions>`.

A model id names everything that changes a vector (provider, model,
dimensions; every Trawl vector is unit-normalised), so it keys the vector
cache and the search index table: two ids give comparable vectors only if
they are equal. Examples: `wordllama/l2_supercat-256`,
`bedrock/amazon.titan-embed-text-v2:0/512`.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from domain.common import DomainError

WORDLLAMA, BEDROCK = "wordllama", "bedrock"
TITAN_V2 = "amazon.titan-embed-text-v2:0"
TITAN_DIMENSIONS = (256, 512, 1024)
WORDLLAMA_DIMENSIONS = (64, 128, 256, 512, 1024)

_WORDLLAMA = re.compile(r"^wordllama/([a-z0-9_]{1,40})-(\d{2,4})$")
_BEDROCK = re.compile(r"^bedrock/([A-Za-z0-9._:-]{1,100})/(\d{2,4})$")


class InvalidModelId(DomainError):
    slug = "invalid-model"


class ModelUnavailable(InvalidModelId):
    """A well-formed model id this deployment cannot embed with (no weights)."""


class ModelId(NamedTuple):
    provider: str
    model: str
    dimensions: int

    def __str__(self) -> str:
        if self.provider == WORDLLAMA:
            return f"{WORDLLAMA}/{self.model}-{self.dimensions}"
        return f"{self.provider}/{self.model}/{self.dimensions}"

    @property
    def slug(self) -> str:
        """A name fit for a table: lower-case letters, digits and underscores."""
        return re.sub(r"[^a-z0-9]+", "_", str(self).lower()).strip("_")


def parse_model_id(raw: str) -> ModelId:
    """The parts of a model id; InvalidModelId says what is wrong."""
    if match := _WORDLLAMA.match(raw):
        dims = int(match.group(2))
        if dims not in WORDLLAMA_DIMENSIONS:
            raise InvalidModelId(f"wordllama dimensions must be one of {WORDLLAMA_DIMENSIONS}")
        return ModelId(WORDLLAMA, match.group(1), dims)
    if match := _BEDROCK.match(raw):
        model, dims = match.group(1), int(match.group(2))
        if model != TITAN_V2:
            raise InvalidModelId(f"the only bedrock model supported is {TITAN_V2}")
        if dims not in TITAN_DIMENSIONS:
            raise InvalidModelId(f"titan dimensions must be one of {TITAN_DIMENSIONS}")
        return ModelId(BEDROCK, model, dims)
    raise InvalidModelId(
        "a model id is wordllama/<config>-<dims> or bedrock/<model>/<dims>, e.g. "
        "wordllama/l2_supercat-256"
    )
