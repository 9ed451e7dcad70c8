"""AnnotationSource: who judged, as OpenInference names annotator kinds."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="Who made a judgement: a person, a program, or a model (LLM-as-judge).")
class AnnotationSource(Enum):
    HUMAN = "HUMAN"
    CODE = "CODE"
    LLM = "LLM"
