{#-
    Keep one row per key: the latest version (greatest `version_column`), and among equal
    versions the latest delivery. Used by every staging model, so re-delivered rows never
    count twice.
-#}
{% macro latest_version(key_columns, version_column=none) -%}
    qualify row_number() over (
        partition by {{ key_columns | join(', ') }}
        order by
            {%- if version_column %} {{ version_column }} desc,{% endif %}
            _loaded_at desc,
            _source_file desc,
            _source_line desc
    ) = 1
{%- endmacro %}
