"""Policy error messages in English and Chinese, carried as a code with its parameters.

The pure engine cannot use Django's translations, so each problem a policy has is a ``Said``: a
``str`` (the English text, so ``(path, message)`` pairs read and compare as before) that also
knows its code, its parameters and its Chinese text. Entry points choose the language
(``PolicyError.lines``): the CLI the operator's locale, the service the request's language.
Pydantic's own messages are translated by their error type.
"""

from __future__ import annotations

from typing import Any

MESSAGES: dict[str, tuple[str, str]] = {
    # conditions
    "condition_shape": (
        "write a condition as 'input op value', got {raw}",
        "条件应写作“输入 运算符 值”，实际为 {raw}",
    ),
    "not_a_value": (
        "{text} is not a number, true or false (nor a date or a 'quoted' value)",
        "{text} 不是数字、true 或 false（也不是日期或带引号的值）",
    ),
    "needs_list": ("'{op}' needs a list of values", "“{op}”需要一个取值列表"),
    "needs_single": ("'{op}' needs a single value, not a list", "“{op}”需要单个值，不能是列表"),
    "bad_window": (
        "'within' needs a window such as '3 years', '6 months' or '90 days', got {value}",
        "“within”需要时间窗口，如“3 years”“6 months”或“90 days”，实际为 {value}",
    ),
    "unknown_input": (
        "unknown input {name} (not a numeric field nor a derived name)",
        "未知输入 {name}（既不是数值字段也不是派生名称）",
    ),
    "text_needs_in": (
        "compare the text field {name} with 'in' or 'not in'",
        "文本字段 {name} 只能用 in 或 not in 比较",
    ),
    "in_text_only": (
        "'{op}' applies to category and text fields only",
        "“{op}”只适用于文本和类别字段",
    ),
    "not_a_category_value": (
        "{value} is not one of the values of {name}: {values}",
        "{value} 不是字段 {name} 的可选值：{values}",
    ),
    "category_op": (
        "compare the category field {name} with ==, !=, 'in' or 'not in'",
        "类别字段 {name} 只能用 ==、!=、in 或 not in 比较",
    ),
    "date_op": (
        "compare the date field {name} with 'within' or with a date (>=, >, <=, <, ==, !=)",
        "日期字段 {name} 只能用 within 或与日期比较（>=、>、<=、<、==、!=）",
    ),
    "not_a_date_field": ("'within' applies to date fields only", "“within”只适用于日期字段"),
    "score_needs_number": ("compare a score with a number", "得分只能与数字比较"),
    "unknown_score": ("unknown {target} {key}", "未知的{target} {key}"),
    "score_place": (
        "{name}: scores can be tested in requirements, routes and uplifts only",
        "{name}：得分只能在评分要求、直接认定和等级上调中检验",
    ),
    # derived values
    "no_text_arithmetic": (
        "text, category and date fields cannot be used in arithmetic",
        "文本、类别和日期字段不能参与运算",
    ),
    "mixed_units": ("a sum cannot mix money (yuan) with counts", "求和不能混合金额（元）与计数"),
    "mixed_scales": (
        "a sum cannot mix fields of different kinds ({kinds})",
        "求和不能混合不同类型的字段（{kinds}）",
    ),
    "unknown_field": ("unknown field {name}", "未知字段 {name}"),
    "bad_expression": (
        "use fields, + and -, integer * field, and at most one '/'",
        "只能使用字段、+ 和 -、整数 × 字段，以及最多一个“/”",
    ),
    "is_a_field": (
        "{name} is already a field of the data dictionary",
        "{name} 已是数据字典中的字段",
    ),
    "cannot_parse": ("cannot parse {expr}", "无法解析 {expr}"),
    # declared fields
    "field_exists": (
        "{name} is already a field of the data dictionary",
        "{name} 已是数据字典中的字段",
    ),
    "header_exists": (
        "the Chinese header {header} is already used by {name}",
        "中文列名 {header} 已被 {name} 使用",
    ),
    "field_twice": ("the field {name} is declared twice", "字段 {name} 重复声明"),
    "category_values": (
        "a category field lists its values (at least one, no repeats)",
        "类别字段须列出可选值（至少一个，不得重复）",
    ),
    "values_not_category": (
        "only a category field has values",
        "只有类别字段可以列出可选值",
    ),
    "required_default": (
        "a required field has no default",
        "必填字段不能有默认值",
    ),
    "bad_default": (
        "the default {value} is not a valid {kind}",
        "默认值 {value} 不是有效的 {kind} 值",
    ),
    "bad_bound": (
        "{which} {value} does not fit a {kind} field",
        "{which} {value} 不适用于 {kind} 字段",
    ),
    "bounds_order": ("min must not exceed max", "min 不能大于 max"),
    # indicators
    "one_kind": (
        "an indicator has exactly one of 'bands', 'best_of', 'ladder' or 'points'",
        "每个指标只能有 bands、best_of、ladder 或 points 之一",
    ),
    "needs_input": ("a banded indicator needs 'input'", "分档指标需要 input"),
    "bands_descending": (
        "bands must be listed from the highest 'from' down, no repeats",
        "分档须按 from 从高到低排列，不得重复",
    ),
    "bands_ascending": (
        "bands must be listed from the lowest 'below' up, no repeats",
        "分档须按 below 从低到高排列，不得重复",
    ),
    "band_edge": (
        "a band has exactly one of 'from' (higher is better) or 'below' (lower is better)",
        "每档只能有 from（越高越好）或 below（越低越好）之一",
    ),
    "bands_mixed": (
        "the bands of one list all use 'from' or all use 'below'",
        "同一组分档须全部使用 from 或全部使用 below",
    ),
    "rung_shape": (
        "a rung has 'when' or is the 'else' rung (else = true), not both",
        "每级须有 when，或为 else 级（else = true），不能兼有",
    ),
    "else_last": ("the 'else' rung comes last", "else 级必须在最后"),
    "too_many_decimals": ("{value} has too many decimal places", "{value} 小数位过多"),
    # groups, outcome, routes
    "unique_indicators": ("indicator ids must be unique", "指标 id 不得重复"),
    "unknown_indicator": ("unknown indicator {name}", "未知指标 {name}"),
    "in_two_groups": ("{name} is already in {group}", "{name} 已属于 {group}"),
    "no_group": ("indicator {name} belongs to no group", "指标 {name} 不属于任何指标组"),
    "unknown_grade": ("unknown grade {name}", "未知等级 {name}"),
    "route_grade": (
        "a route in a grade policy needs min_grade",
        "分级政策中的直接认定需要 min_grade",
    ),
    "uplifts_graded": ("uplifts apply to grade policies only", "等级上调只适用于分级政策"),
    "qualify_shape": (
        "a 'qualify' outcome has min_score and no grades",
        "“qualify”结果须有 min_score，不能有 grades",
    ),
    "grades_shape": (
        "a 'grades' outcome lists grades (best first), not min_score",
        "“grades”结果须列出等级（从高到低），不能有 min_score",
    ),
    "grades_falling": (
        "grades must be listed best first, min_score strictly falling",
        "等级须从高到低排列，min_score 严格递减",
    ),
    "grades_unique": ("grade names must be unique", "等级名称不得重复"),
    # files
    "not_toml": ("not valid TOML: {error}", "不是有效的 TOML：{error}"),
    "cannot_read": ("cannot read {path}: {error}", "无法读取 {path}：{error}"),
    "no_shipped": (
        "no shipped policy {ref} (shipped: {known})",
        "没有内置政策 {ref}（内置政策：{known}）",
    ),
}

# Pydantic's messages, by error type (the English text stays pydantic's own).
PYDANTIC_ZH: dict[str, str] = {
    "extra_forbidden": "不允许的键（拼写有误？）",
    "missing": "缺少必填项",
    "literal_error": "取值应为：{expected}",
    "string_pattern_mismatch": "格式不符（应匹配 {pattern}）",
    "greater_than_equal": "应大于或等于 {ge}",
    "greater_than": "应大于 {gt}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应小于或等于 {le}",
    "too_short": "至少需要 {min_length} 项",
    "string_too_short": "不能为空",
    "date_from_datetime_parsing": "应为日期，如 2026-01-01（不加引号）",
    "date_from_datetime_inexact": "应为日期，如 2026-01-01（不加引号）",
    "date_parsing": "应为日期，如 2026-01-01（不加引号）",
    "date_type": "应为日期，如 2026-01-01（不加引号）",
    "string_type": "应为文本",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "list_type": "应为列表",
    "dict_type": "应为表",
    "model_type": "应为表",
    "decimal_type": "应为数字",
    "decimal_parsing": "应为数字",
}


class Said(str):
    """An English message that also carries its code, parameters and Chinese text."""

    code: str
    params: dict[str, Any]
    zh: str

    def __new__(
        cls, code: str, en: str | None = None, zh: str | None = None, **params: Any
    ) -> Said:
        templates = MESSAGES.get(code, ("{text}", "{text}"))
        text = {k: str(v) if k in _PLAIN else _shown(v) for k, v in params.items()}
        obj = super().__new__(cls, en if en is not None else templates[0].format(**text))
        obj.code, obj.params = code, params
        obj.zh = zh if zh is not None else templates[1].format(**text)
        return obj


# Parameters shown as they are; every other text parameter is quoted ('name').
_PLAIN = frozenset({"target", "op", "kinds", "values", "which", "kind", "path", "error", "known"})


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


class PolicyValueError(ValueError):
    """A validator's error with its bilingual message (pydantic keeps it in ``ctx``)."""

    def __init__(self, code: str, **params: Any) -> None:
        self.said = Said(code, **params)
        super().__init__(str(self.said))


def from_pydantic(error: Any) -> Said:
    """A pydantic error dict as a bilingual message (English exactly as pydantic says it)."""
    msg: str = error["msg"]
    ctx = error.get("ctx") or {}
    cause = ctx.get("error")
    if isinstance(cause, PolicyValueError):
        return Said(cause.said.code, en=msg, zh=cause.said.zh, **cause.said.params)
    template = PYDANTIC_ZH.get(error["type"])
    if template is None:
        return Said(error["type"], en=msg, zh=f"政策格式错误：{msg}")
    try:
        zh = template.format(**{k: str(v) for k, v in ctx.items()})
    except (KeyError, IndexError):
        zh = template
    return Said(error["type"], en=msg, zh=zh)


def zh_of(message: str) -> str:
    """The Chinese text of a message (English when it carries none)."""
    return message.zh if isinstance(message, Said) else message
