{#-
    Statistics for the A/B-test mart (catalogue §3), written once here and evaluated in SQL so
    the same models run on every engine. Arguments are SQL expressions; pass column names
    (not long expressions): an argument may be repeated many times in the rendered SQL.

    Precision (checked against scipy in tests/dbt/test_ab_statistics.py):
    - erfc: Numerical Recipes' Chebyshev fit `erfcc`, fractional (relative) error < 1.2e-7 for
      every x, so tail p-values keep their relative precision (Abramowitz-Stegun 7.1.26 only
      bounds the absolute error at 1.5e-7, which is useless for p = 1e-9).
    - two_sided_p_value: erfc(|z| / sqrt 2), relative error < 1.2e-7.
    - chi_square_p_value: the regularized upper incomplete gamma Q(df/2, x/2) by its finite
      closed forms, exact up to floating point for even df and up to erfc's 1.2e-7 for odd df
      (df = 1 is erfc(sqrt(x/2)) = 2(1 - Phi(sqrt x))); for df > max_df (default 40, i.e. more
      than 41 variants) the Wilson-Hilferty normal approximation (absolute error ~1e-3).
-#}

{#- The complementary error function erfc(x) = 1 - erf(x), for any real x. -#}
{% macro erfc(x) -%}
    {{ return(adapter.dispatch('erfc')(x)) }}
{%- endmacro %}

{% macro default__erfc(x) -%}
    {%- set t = '(1.0 / (1.0 + 0.5 * abs(' ~ x ~ ')))' -%}
    {%- set coefficients = [
        1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807,
        -1.13520398, 1.48851587, -0.82215223, 0.17087277,
    ] -%}
    {%- set ns = namespace(poly='0') -%}
    {%- for c in coefficients | reverse -%}
        {%- set ns.poly = '(' ~ c ~ ' + ' ~ t ~ ' * ' ~ ns.poly ~ ')' -%}
    {%- endfor -%}
    (case
        when {{ x }} is null then null
        when {{ x }} >= 0
            then {{ t }} * exp(-({{ x }}) * ({{ x }}) - 1.26551223 + {{ t }} * {{ ns.poly }})
        else 2.0 - {{ t }} * exp(-({{ x }}) * ({{ x }}) - 1.26551223 + {{ t }} * {{ ns.poly }})
    end)
{%- endmacro %}

{#-
    Two-sided p-value of a standard-normal statistic z: 2 (1 - Phi(|z|)), at most 1 (the
    approximation gives 1 + 1e-9 at z = 0). NULL when z is NULL.
-#}
{% macro two_sided_p_value(z) -%}
    (case
        when {{ z }} is null then null
        else least(1.0, {{ erfc('abs(' ~ z ~ ') * 0.7071067811865476') }})
    end)
{%- endmacro %}

{#-
    Pooled two-proportion z statistic of x1/n1 against x2/n2:
    (p1 - p2) / sqrt(p (1 - p) (1/n1 + 1/n2)) with p = (x1 + x2) / (n1 + n2).
    NULL when the pooled standard error is 0 (no conversions, or all converted) or a group is
    empty: the test is undefined there, never infinite.
-#}
{% macro two_proportion_z(x1, n1, x2, n2) -%}
    (
        (cast({{ x1 }} as double) / nullif({{ n1 }}, 0)
        - cast({{ x2 }} as double) / nullif({{ n2 }}, 0))
        / nullif(sqrt(
            (cast({{ x1 }} + {{ x2 }} as double) / nullif({{ n1 }} + {{ n2 }}, 0))
            * (1.0 - cast({{ x1 }} + {{ x2 }} as double) / nullif({{ n1 }} + {{ n2 }}, 0))
            * (1.0 / nullif({{ n1 }}, 0) + 1.0 / nullif({{ n2 }}, 0))
        ), 0)
    )
{%- endmacro %}

{#-
    Unpooled standard error of the difference of two proportions x1/n1 - x2/n2:
    sqrt(p1 (1 - p1) / n1 + p2 (1 - p2) / n2); the confidence interval of the difference is
    difference ± z_(1-alpha/2) × it.
-#}
{% macro unpooled_standard_error(x1, n1, x2, n2) -%}
    sqrt(
        (cast({{ x1 }} as double) / nullif({{ n1 }}, 0))
        * (1.0 - cast({{ x1 }} as double) / nullif({{ n1 }}, 0)) / nullif({{ n1 }}, 0)
        + (cast({{ x2 }} as double) / nullif({{ n2 }}, 0))
        * (1.0 - cast({{ x2 }} as double) / nullif({{ n2 }}, 0)) / nullif({{ n2 }}, 0)
    )
{%- endmacro %}

{#-
    Upper tail P(X >= x) of a chi-square distribution with df degrees of freedom, i.e. the
    regularized upper incomplete gamma Q(df/2, x/2). With y = x/2:
      even df = 2m:     Q = exp(-y) Σ_{i=0}^{m-1} y^i / i!
      odd df = 2m + 1:  Q = erfc(sqrt y) + exp(-y) Σ_{i=1}^{m} y^(i - 1/2) / Γ(i + 1/2)
    Terms are evaluated in log space (no overflow for large x). The series is unrolled up to
    `max_df`; beyond it, Wilson-Hilferty. NULL for a NULL input or df < 1.
-#}
{% macro chi_square_p_value(x, df, max_df=40) -%}
    {%- set y = '(cast(' ~ x ~ ' as double) / 2.0)' -%}
    {%- set log_y = 'ln(greatest(' ~ y ~ ', 1e-300))' -%}
    {%- set ns = namespace(factorial=1, terms=[]) -%}
    {%- for i in range((max_df + 1) // 2) -%}
        {#- even df: i = 0 .. m-1, term y^i / i! -#}
        {%- if i > 0 %}{% set ns.factorial = ns.factorial * i %}{% endif -%}
        {%- set ns.terms = ns.terms + [
            'case when ' ~ df ~ ' % 2 = 0 and 2 * ' ~ i ~ ' < ' ~ df
            ~ ' then exp(' ~ i ~ ' * ' ~ log_y ~ ' - ' ~ y ~ ' - ln(' ~ (ns.factorial | float) ~ '))'
            ~ ' else 0.0 end'
        ] -%}
    {%- endfor -%}
    {%- set ns.factorial = 1 -%}
    {%- for i in range(1, (max_df + 1) // 2 + 1) -%}
        {#- odd df: i = 1 .. m, term y^(i - 1/2) / Γ(i + 1/2), Γ(i + 1/2) = (2i)! √π / (4^i i!) -#}
        {%- set ns2 = namespace(f2i=1, fi=1) -%}
        {%- for j in range(1, 2 * i + 1) %}{% set ns2.f2i = ns2.f2i * j %}{% endfor -%}
        {%- for j in range(1, i + 1) %}{% set ns2.fi = ns2.fi * j %}{% endfor -%}
        {%- set gamma = (ns2.f2i / (4 ** i * ns2.fi)) * 1.7724538509055159 -%}
        {%- set ns.terms = ns.terms + [
            'case when ' ~ df ~ ' % 2 = 1 and 2 * ' ~ i ~ ' < ' ~ df
            ~ ' then exp(' ~ (i - 0.5) ~ ' * ' ~ log_y ~ ' - ' ~ y ~ ' - ln(' ~ gamma ~ '))'
            ~ ' else 0.0 end'
        ] -%}
    {%- endfor -%}
    {%- set wilson_hilferty -%}
        ((power(cast({{ x }} as double) / {{ df }}, 1.0 / 3.0) - (1.0 - 2.0 / (9.0 * {{ df }})))
        / sqrt(2.0 / (9.0 * {{ df }})) * 0.7071067811865476)
    {%- endset -%}
    (case
        when {{ x }} is null or {{ df }} is null or {{ df }} < 1 then null
        when {{ x }} <= 0 then 1.0
        when {{ df }} > {{ max_df }} then 0.5 * {{ erfc(wilson_hilferty) }}
        else least(1.0,
            case when {{ df }} % 2 = 1 then {{ erfc('sqrt(' ~ y ~ ')') }} else 0.0 end
            + {{ ns.terms | join('\n            + ') }}
        )
    end)
{%- endmacro %}
