{#- The contact log the channel writers append to (recall.contact_log), created empty before the
    first dbt run so recall_audience can read it; the writers own its rows. `cost` is what the
    contact is billed (SMS: segments × price), added to logs created before it existed. -#}
{% macro create_contact_log() -%}
    create schema if not exists recall;
    create table if not exists recall.contact_log (
        campaign_date date, campaign_id varchar, person_id varchar, rule_id varchar, channel varchar,
        test_group varchar, send_at timestamp, outbox_file varchar, run_id varchar, cost decimal(18, 4)
    );
    alter table recall.contact_log add column if not exists cost decimal(18, 4)
{%- endmacro %}

{#- The campaign day a recall batch plans: the microbatch's day (dbt runs one batch per day of
    the run, in order); outside a batch (compile, docs) the run's last day. -#}
{% macro campaign_day() -%}
    {%- set batch = model.get('batch') if model is mapping else none -%}
    {%- if batch and batch.get('event_time_start') -%}
    cast('{{ batch.get("event_time_start").strftime("%Y-%m-%d") }}' as date)
    {%- else -%}
    cast({{ dbt.dateadd('day', -1, run_window_end()) }} as date)
    {%- endif -%}
{%- endmacro %}
