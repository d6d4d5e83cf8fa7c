{#-
    Whether a product is active on `day` (catalogue §5): launched on or before that day (or at an
    unknown date: on sale since before the data) and not discontinued on or before it. `products` names a relation with launched_date and
    discontinued_date (dim_products). The stock-out rate, slow-moving share and hot-seller
    ranking all count active products with this one rule.
-#}
{% macro is_active_product(products, day) -%}
    (
        ({{ products }}.launched_date is null or {{ products }}.launched_date <= {{ day }})
        and (
            {{ products }}.discontinued_date is null
            or {{ products }}.discontinued_date > {{ day }}
        )
    )
{%- endmacro %}
