{#- Generated from include/contracts/heart_rate_event.schema.json by tools/event_contract_macro.py;
    do not edit (`make lint` checks it). The contract's [minimum, maximum] per field. -#}
{% macro event_contract_ranges() -%}
    {{ return({"activity_id": [20001, 20999], "heart_rate": [20, 250], "latitude": [-90, 90], "longitude": [-180, 180], "timestamp": [946684800, 4102444800], "user_id": [1, 2147483647]}) }}
{%- endmacro %}
