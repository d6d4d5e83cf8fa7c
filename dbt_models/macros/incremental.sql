{#-
    Incremental facts pick up what was loaded since their last build: rows whose `_loaded_at`
    (when the raw row arrived) is later than the newest `_loaded_at` already in the fact. A
    re-delivered file reloads its rows with a new `_loaded_at`, so late files and status
    changes after the fact are rebuilt without naming dates.
-#}
{% macro loaded_since_last_build(column='_loaded_at') -%}
    {{ column }} > (
        select coalesce(max(built._loaded_at), cast('1970-01-01' as timestamp))
        from {{ this }} as built
    )
{%- endmacro %}
