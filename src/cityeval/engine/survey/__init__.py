"""The citizens' impact survey (docs/domain.md §5): forms, XLSForms, imports, quality, statistics.

Public API::

    from cityeval.engine.survey import build_forms, read_responses, check_responses, statement_stats
    forms = build_forms(framework, modes={"governance": "combined"})
    table = read_responses("export.csv", form=forms[0], identity_salt=salt)
    report = check_responses(table, targets={f.code: f.target for f in forms})
    stats = statement_stats(report.valid)
"""

from cityeval.engine.survey.errors import XLSFormError
from cityeval.engine.survey.forms import (
    AGE,
    AGE_BANDS,
    ANSWER_LABELS,
    ANSWERS,
    ASSISTED,
    DISTRICT,
    END,
    IDENTITY,
    RESPONSE_ID,
    SCREEN,
    SEX,
    SEXES,
    START,
    FormSpec,
    Mode,
    build_forms,
    form_by_code,
    form_choices,
    question_name,
    statement_code,
)
from cityeval.engine.survey.imports import (
    REVIEW_STATES,
    identity_hash,
    read_responses,
    response_columns,
    template_csv,
)
from cityeval.engine.survey.quality import QUALITY_COLUMNS, REASONS, QualityReport, check_responses
from cityeval.engine.survey.stats import (
    BOOTSTRAP_METHOD,
    cronbach_alpha,
    feldt_interval,
    form_alphas,
    pooled_counts,
    pooled_means,
    statement_stats,
)
from cityeval.engine.survey.weighting import RakingError, rake, weighted_margins
from cityeval.engine.survey.xlsform import form_id, validate_xlsform, xlsform_bytes

__all__ = [
    "AGE",
    "AGE_BANDS",
    "ANSWERS",
    "ANSWER_LABELS",
    "ASSISTED",
    "BOOTSTRAP_METHOD",
    "DISTRICT",
    "END",
    "IDENTITY",
    "QUALITY_COLUMNS",
    "REASONS",
    "RESPONSE_ID",
    "REVIEW_STATES",
    "SCREEN",
    "SEX",
    "SEXES",
    "START",
    "FormSpec",
    "Mode",
    "QualityReport",
    "RakingError",
    "XLSFormError",
    "build_forms",
    "check_responses",
    "cronbach_alpha",
    "feldt_interval",
    "form_alphas",
    "form_by_code",
    "form_choices",
    "form_id",
    "identity_hash",
    "pooled_counts",
    "pooled_means",
    "question_name",
    "rake",
    "read_responses",
    "response_columns",
    "statement_code",
    "statement_stats",
    "template_csv",
    "validate_xlsform",
    "weighted_margins",
    "xlsform_bytes",
]
