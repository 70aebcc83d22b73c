-- The churn_settings seed as one typed row, to cross join where a setting is needed.
{{ settings_row('churn_settings', {
    'retention_curve_days': 'int',
    'min_buyers_to_fit': 'int',
    'active_within_days': 'int',
    'warning_max_p_alive': 'float',
    'warning_min_value_level': 'text',
}) }}
