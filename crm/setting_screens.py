"""Who may open each settings screen (设置), read from each area's own definition of who edits it.

The settings menu, its navigation item and each screen's route guard read these sets; the services
still decide every change themselves. A screen a role may only read (the escalation ladder for HQ)
admits its readers.
"""

from __future__ import annotations

from crm.analytics.access import SETTING_EDITORS as DASHBOARD_SETTING_EDITORS
from crm.calendar import overrides
from crm.calendar import settings as calendar
from crm.callbacks.dms import KEY_MANAGERS
from crm.callbacks.rules import RULE_EDITORS
from crm.complaints.authority import POLICY_EDITORS as COMPLAINT_POLICY_EDITORS
from crm.customers.importer import IMPORTERS
from crm.major.policy import POLICY_READERS as MAJOR_POLICY_READERS
from crm.notify.inbox import DELIVERY_ADMINS

# key → the roles that may open the screen
SCREENS = {
    "calendar": calendar.GROUP_EDITORS | calendar.STORE_EDITORS | overrides.OVERRIDE_EDITORS,
    "complaint_deadlines": COMPLAINT_POLICY_EDITORS,
    "authority": COMPLAINT_POLICY_EDITORS,
    "major_policy": MAJOR_POLICY_READERS,
    "callback_rules": RULE_EDITORS,
    "notification_channels": DELIVERY_ADMINS,
    "dms_keys": KEY_MANAGERS,
    "customer_import": IMPORTERS,
    "dashboard": DASHBOARD_SETTING_EDITORS,
}
SETTINGS_ROLES = frozenset().union(*SCREENS.values())
