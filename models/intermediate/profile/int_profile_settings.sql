-- The profile_settings seed as one typed row, to cross join where a threshold is needed.
{{ settings_row('profile_settings', {
    'new_days': 'int',
    'silent_days': 'int',
    'churn_days': 'int',
    'history_days': 'int',
    'interaction_half_life_days': 'int',
    'koc_min_converted_invites': 'int',
    'koc_min_shares': 'int',
    'koc_min_followers': 'int',
}) }}
