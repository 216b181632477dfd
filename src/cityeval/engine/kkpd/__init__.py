"""KKPD, the regional government credit card (Permendagri 79/2022): files, rules, checks, shares.

Public API::

    from cityeval.engine.kkpd import check_transactions, default_rules, read_cards, read_transactions
    cards = read_cards("cards.csv")
    tx = read_transactions("statement.csv", cards=cards)
    result = check_transactions(tx, cards, rules=default_rules(), as_of=date(2024, 12, 31))
    result.flags  # reference, rule, card, merchant, amount, detail, date, opd, code, params
"""

from cityeval.engine.kkpd.checks import FLAG_COLUMNS, RULES, CheckResult, check_transactions, rupiah
from cityeval.engine.kkpd.files import (
    Problem,
    RowProblems,
    parse_cards,
    parse_merchants,
    parse_settlements,
    parse_spending,
    parse_transactions,
    read_cards,
    read_merchants,
    read_settlements,
    read_spending,
    read_transactions,
)
from cityeval.engine.kkpd.mapping import (
    EXAMPLE_MAPPING,
    GENERIC_MAPPING,
    TEMPLATE_COLUMNS,
    BankMapping,
    parse_mapping,
)
from cityeval.engine.kkpd.rules import (
    DEFAULT_RULES_YAML,
    RulesError,
    RuleSet,
    default_rules,
    load_rules,
    parse_rules,
)
from cityeval.engine.kkpd.shares import kkpd_shares

__all__ = [
    "DEFAULT_RULES_YAML",
    "EXAMPLE_MAPPING",
    "FLAG_COLUMNS",
    "GENERIC_MAPPING",
    "RULES",
    "TEMPLATE_COLUMNS",
    "BankMapping",
    "CheckResult",
    "Problem",
    "RowProblems",
    "RuleSet",
    "RulesError",
    "check_transactions",
    "default_rules",
    "kkpd_shares",
    "load_rules",
    "parse_cards",
    "parse_mapping",
    "parse_merchants",
    "parse_rules",
    "parse_settlements",
    "parse_spending",
    "parse_transactions",
    "read_cards",
    "read_merchants",
    "read_settlements",
    "read_spending",
    "read_transactions",
    "rupiah",
]
