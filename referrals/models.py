# Referral codes and programs arrive with their own issue; the app exists so the layout is in place.
