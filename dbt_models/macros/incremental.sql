{#-
    Which rows an incremental fact rebuilds: the rows in its build window.

    - Always, what was loaded since the fact's last build: rows whose `loaded_column` (the
      newest `_loaded_at` of what the row is built from) is later than the newest `_loaded_at`
      already in the fact. A re-delivered file reloads its rows with a new `_loaded_at`, so
      late files, status changes and whatever a crashed run left behind are rebuilt without
      naming dates: nothing loaded is ever missed.
    - Also, when the vars `window_start` and `window_end` (ISO dates, the days of delivery a
      partitioned run covers) are both set: rows whose `delivery_column` (the newest
      `_delivery_date`, landing `dt=` day, of what the row is built from: the fact's own
      `_delivery_date`) lies in [window_start, window_end]. Re-running a partition thus
      rebuilds that day's rows even when no file changed (a model change, a backfill). A row
      belongs to the day of its newest delivery: re-running an earlier day leaves it alone.

    Without the vars the window is the watermark alone, as in a plain `dbt build`. Setting only
    one of them, or a window that is not start <= end in ISO dates, is a compilation error.
-#}
{% macro in_build_window(delivery_column='_delivery_date', loaded_column='_loaded_at') -%}
    {%- set window = build_window() -%}
    {%- if window %}({% endif -%}
    {{ loaded_column }} > (
        select coalesce(max(built._loaded_at), cast('1970-01-01' as timestamp))
        from {{ this }} as built
    )
    {%- if window %}
    or {{ delivery_column }} between cast('{{ window[0] }}' as date)
    and cast('{{ window[1] }}' as date))
    {%- endif %}
{%- endmacro %}

{#- The (window_start, window_end) vars as ISO date strings, or none when neither is set.
    The pipeline sets them as the environment variables KPI_WINDOW_START / KPI_WINDOW_END, not
    as --vars: dbt re-parses the whole project when its vars change, and only the files that
    read an environment variable when that variable changes. -#}
{% macro build_window() -%}
    {%- set start = var('window_start', none) or env_var('KPI_WINDOW_START', '') -%}
    {%- set end = var('window_end', none) or env_var('KPI_WINDOW_END', '') -%}
    {%- if start in [none, ''] and end in [none, ''] -%}
        {{- return(none) -}}
    {%- endif -%}
    {%- if start in [none, ''] or end in [none, ''] -%}
        {{- exceptions.raise_compiler_error(
            'set both vars window_start and window_end, or neither (got window_start='
            ~ start ~ ', window_end=' ~ end ~ ')') -}}
    {%- endif -%}
    {%- set days = [] -%}
    {%- for day in [start, end] -%}
        {%- set text = day | string -%}
        {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', text) -%}
            {{- exceptions.raise_compiler_error(
                'window_start / window_end must be ISO dates (YYYY-MM-DD), got ' ~ text) -}}
        {%- endif -%}
        {%- do days.append(modules.datetime.date.fromisoformat(text).isoformat()) -%}
    {%- endfor -%}
    {%- if days[0] > days[1] -%}
        {{- exceptions.raise_compiler_error(
            'window_start ' ~ days[0] ~ ' is after window_end ' ~ days[1]) -}}
    {%- endif -%}
    {{- return(days) -}}
{%- endmacro %}

{#-
    Rows of `relation` (an incremental model that keeps each row's `_source_file` and
    `_loaded_at`) whose version is no longer loaded: their file was delivered again since (its
    rows were reloaded with a new `_loaded_at`, and the re-delivery may have changed or dropped
    them). Their keys must be rebuilt from what is loaded now: an earlier delivery's version of
    the key, or nothing (the key is gone).
-#}
{% macro superseded(relation) -%}
    not exists (
        select 1 from {{ load_manifest() }} as delivery
        where delivery.source_file = {{ relation }}._source_file
        and delivery.loaded_at = {{ relation }}._loaded_at
    )
{%- endmacro %}

{#-
    The keys an incremental staging model rebuilds: those with a raw row in the build window
    (`in_build_window` over the raw `_business_date` and `_loaded_at`), and those whose current
    version is superseded. The model keeps the latest version of each among all raw rows;
    superseded keys left without any raw row are deleted by its post-hook
    (`delete_superseded`). `key` is a column, or a comma-separated list of the columns of a
    composite key (`'experiment_id, visitor_id'`), which the model matches as a row value.
-#}
{% macro staging_keys_to_rebuild(raw_relation, key) -%}
    select {{ key }} from {{ raw_relation }}
    where {{ in_build_window('_business_date', '_loaded_at') }}
    union
    {{ superseded_keys(key) }}
{%- endmacro %}

{#- The keys of the model being built whose current version is superseded. -#}
{% macro superseded_keys(key) -%}
    select {{ key }} from {{ this }} where {{ superseded(this) }}
{%- endmacro %}

{#- Post-hook of a model that rebuilds superseded keys: drop those no delivery holds any more. -#}
{% macro delete_superseded() -%}
    delete from {{ this }} where {{ superseded(this) }}
{%- endmacro %}

{#-
    Post-hook of an incremental model with a row per key of `relation`: drop the rows whose
    key (`keys`, a list of columns) `relation` no longer holds. delete+insert replaces the
    keys a build writes; a key gone from the input is in no build, so it goes here.
-#}
{% macro delete_keys_not_in(relation, keys) -%}
    delete from {{ this }} where not exists (
        select 1 from {{ relation }} as kept
        where
        {%- for key in keys %}
            {% if not loop.first %}and {% endif %}kept.{{ key }} = {{ this }}.{{ key }}
        {%- endfor %}
    )
{%- endmacro %}

{#-
    raw._load_manifest: one row per landing file, the delivery whose rows its raw table holds
    and when it was loaded (`loaded_at`, the `_loaded_at` of those rows). Written by ingestion
    beside the raw tables, so not a dbt source: every raw asset writes it, and a model that
    reads it already depends on its raw table.
-#}
{% macro load_manifest() -%}
    {{ api.Relation.create(database=target.database, schema='raw', identifier='_load_manifest') }}
{%- endmacro %}

{#-
    The keys an incremental fact rebuilds because their rows were restated since they were
    built: the distinct `key` of the rows of the fact (`this`) whose `compared` columns differ
    (NULLs compare equal) from the row they would be built as now, read from `current` (a
    relation or CTE of the fact's rows as built now, matched on `match_on`). A product's new
    category or a cost version dated back changes rows whose own files were loaded long ago,
    which neither the watermark nor the build window of `in_build_window` reaches.
-#}
{% macro restated_keys(current, key, match_on, compared) -%}
    {%- set matches, differences = [], [] -%}
    {%- for column in match_on -%}
        {%- do matches.append('built.' ~ column ~ ' = current_rows.' ~ column) -%}
    {%- endfor -%}
    {%- for column in compared -%}
        {%- do differences.append('built.' ~ column ~ ' is distinct from current_rows.' ~ column) -%}
    {%- endfor -%}
    select distinct built.{{ key }} from {{ this }} as built
    inner join {{ current }} as current_rows
        on {{ matches | join('\n        and ') }}
    where {{ differences | join('\n    or ') }}
{%- endmacro %}
