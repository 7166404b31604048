"""Checks on model names, aliases, versions, stages and tags, before anything is written.

A model name is canonicalised once, here: NFC, surrounding space stripped. Uniqueness is
decided on a stricter key (NFKC), so that names that only look different (full-width
letters, composed vs. decomposed accents) are one name. Percent-encoded names are refused
rather than decoded (CVE-2024-3099: ``churn%2Dmodel`` next to ``churn-model``), as are
invisible characters (control and format characters, e.g. a zero-width space).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any
from urllib.parse import unquote

from stead.errors import InvalidParameter
from stead.registry.records import ACTIVE_STAGES, STAGES

__all__ = [
    "MAX_MODEL_NAME_LENGTH",
    "MAX_ALIAS_LENGTH",
    "MAX_TAG_VALUE_LENGTH",
    "check_model_name",
    "name_key",
    "check_alias",
    "check_version",
    "check_stage",
    "check_tag",
]

MAX_MODEL_NAME_LENGTH = 255
MAX_ALIAS_LENGTH = 255  # MLflow's MAX_REGISTERED_MODEL_ALIAS_LENGTH
MAX_TAG_KEY_LENGTH = 250
MAX_TAG_VALUE_LENGTH = 100_000  # MLflow's MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH
MAX_DESCRIPTION_LENGTH = 100_000

_ALIAS_RE = re.compile(r"^[\w\-]+$")
_VERSION_ALIAS_RE = re.compile(r"^[vV]\d+$")
_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


def check_model_name(name: Any, what: str = "Registered model name") -> str:
    """The canonical form of a model name, or ``InvalidParameter`` saying what is wrong."""
    if not isinstance(name, str):
        raise InvalidParameter(f"{what} must be a string, got {type(name).__name__} {name!r}")
    canonical = unicodedata.normalize("NFC", name).strip()
    if not canonical:
        raise InvalidParameter(f"{what} must not be empty; pass a name such as 'churn'")
    if len(canonical) > MAX_MODEL_NAME_LENGTH:
        raise InvalidParameter(f"{what} is {len(canonical)} characters; the limit is {MAX_MODEL_NAME_LENGTH}")
    if any(c in canonical for c in "/:"):
        raise InvalidParameter(f"Invalid model name {canonical!r}. Names cannot contain '/' or ':'.")
    for ch in canonical:
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
            raise InvalidParameter(
                f"Invalid model name {canonical!r}: it contains the invisible character U+{ord(ch):04X}; remove it"
            )
    if _PERCENT_ESCAPE.search(canonical):
        decoded = unquote(canonical)
        raise InvalidParameter(
            f"Invalid model name {canonical!r}: it contains percent-encoding; "
            f"write the name decoded (e.g. {decoded!r}) or without '%XX'"
        )
    if canonical in (".", ".."):
        raise InvalidParameter(f"Invalid model name {canonical!r}; pass a name such as 'churn'")
    return canonical


def name_key(canonical: str) -> str:
    """The uniqueness key of a canonical name: look-alikes (NFKC-equal) share a key."""
    return unicodedata.normalize("NFKC", canonical)


def check_alias(alias: Any, *, for_set: bool = False) -> str:
    """An alias name: letters, digits, '_' and '-'; 'latest' and 'v<N>' are reserved for set."""
    if alias is None or alias == "":
        raise InvalidParameter("Registered model alias name cannot be empty.")
    if not isinstance(alias, str) or not _ALIAS_RE.match(alias):
        raise InvalidParameter(
            f"Invalid alias name: {alias!r}. Names may only contain alphanumerics, underscores (_) and dashes (-)."
        )
    if len(alias) > MAX_ALIAS_LENGTH:
        raise InvalidParameter(f"Registered model alias name is {len(alias)} characters; the limit is {MAX_ALIAS_LENGTH}")
    if for_set:
        if alias.lower() == "latest":
            raise InvalidParameter("'latest' alias name (case insensitive) is reserved.")
        if _VERSION_ALIAS_RE.match(alias):
            raise InvalidParameter(f"Version alias name '{alias}' is reserved.")
    return alias


def check_version(version: Any) -> int:
    """A model version number (an int or a numeric string such as '3')."""
    if isinstance(version, bool):
        raise InvalidParameter(f"Parameter 'version' must be an integer, got {version!r}.")
    try:
        number = int(str(version).strip()) if not isinstance(version, int) else version
    except ValueError:
        raise InvalidParameter(f"Parameter 'version' must be an integer, got {version!r}.") from None
    if number < 1 or number >= 2**31:
        raise InvalidParameter(f"Parameter 'version' must be a positive version number, got {version!r}.")
    return number


def check_stage(stage: Any) -> str:
    """A legacy stage in MLflow's spelling; matched case-insensitively."""
    if isinstance(stage, str):
        for known in STAGES:
            if stage.strip().lower() == known.lower():
                return known
    raise InvalidParameter(f"Invalid Model Version stage: {stage}. Value must be one of {', '.join(STAGES)}.")


def check_active_stage_for_archive(stage: str) -> None:
    if stage not in ACTIVE_STAGES:
        raise InvalidParameter(
            f"Model version transition cannot archive existing model versions because '{stage}' "
            f"is not an Active stage. Valid stages are {', '.join(ACTIVE_STAGES)}"
        )


def check_tag(key: Any, value: Any) -> tuple[str, str]:
    if not isinstance(key, str) or not key.strip():
        raise InvalidParameter(f"Tag key must be a non-empty string, got {key!r}")
    if len(key) > MAX_TAG_KEY_LENGTH:
        raise InvalidParameter(f"Tag key {key[:40]!r}... is {len(key)} characters; the limit is {MAX_TAG_KEY_LENGTH}")
    if any(unicodedata.category(ch) == "Cc" for ch in key):
        raise InvalidParameter(f"Tag key {key!r} contains control characters; remove them")
    text = "" if value is None else value if isinstance(value, str) else str(value)
    if len(text) > MAX_TAG_VALUE_LENGTH:
        raise InvalidParameter(f"Tag {key!r} has a value of {len(text)} characters; the limit is {MAX_TAG_VALUE_LENGTH}")
    return key, text


def check_description(text: Any) -> str:
    if text is None:
        return ""
    if not isinstance(text, str):
        raise InvalidParameter(f"Description must be a string, got {type(text).__name__}")
    if len(text) > MAX_DESCRIPTION_LENGTH:
        raise InvalidParameter(f"Description is {len(text)} characters; the limit is {MAX_DESCRIPTION_LENGTH}")
    return text
