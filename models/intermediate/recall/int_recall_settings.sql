-- The recall_settings seed as one typed row, to cross join where a setting is needed.
{{ settings_row('recall_settings', {
    'max_contacts_30d': 'int',
    'min_days_between_contacts': 'int',
    'control_percent': 'int',
    'control_salt': 'text',
    'return_window_days': 'int',
    'landing_base_url': 'text',
    'outbox_retention_days': 'int',
    'min_group_for_lift': 'int',
    'short_link_base': 'text',
    'sms_variable_max_chars': 'int',
}) }}
