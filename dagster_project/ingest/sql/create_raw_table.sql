-- A raw table: the contract's columns, typed, plus where each row came from.
create table if not exists raw.{{ table.name }} (
{%- for column in table.columns %}
    {{ column.name }} {{ column.type }},
{%- endfor %}
    _source_file varchar not null,
    _source_line bigint not null,
    _business_date date not null,
    _loaded_at timestamptz not null
);
