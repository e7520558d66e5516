"""The domain core of dealerdesk: one subpackage per area, shared mechanisms beside them."""
