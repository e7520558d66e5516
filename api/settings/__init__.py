"""Settings (设置): one screen per group or store setting, each saving through its own area's service.

`menu` lists the screens (who may open each is in `crm.setting_screens`); one module per screen.
"""

from api.settings import callback_rules, calendar, channels, complaints, customer_import, dms_keys, menu

ROUTES = [*menu.ROUTES, *calendar.ROUTES, *complaints.ROUTES, *callback_rules.ROUTES, *channels.ROUTES,
          *dms_keys.ROUTES, *customer_import.ROUTES]
