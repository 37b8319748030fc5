from django.db import migrations

# Checked at commit (DEFERRABLE INITIALLY DEFERRED), when every movement of the transaction is written: the lot
# movements of a transaction add up to its points, so the lots always explain the balances.
FORWARD = """
CREATE OR REPLACE FUNCTION loyalty_transaction_balanced() RETURNS trigger AS $$
DECLARE
    txn_id bigint;
    txn_points bigint;
    moved bigint;
BEGIN
    IF TG_TABLE_NAME = 'loyalty_transaction' THEN
        txn_id := NEW.id;
    ELSE
        txn_id := NEW.transaction_id;
    END IF;
    SELECT points INTO txn_points FROM loyalty_transaction WHERE id = txn_id;
    SELECT COALESCE(SUM(points), 0) INTO moved FROM loyalty_lotmovement WHERE transaction_id = txn_id;
    IF moved <> txn_points THEN
        RAISE EXCEPTION 'ledger unbalanced: transaction % moves % points of lots for % points', txn_id, moved,
            txn_points USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER loyalty_transaction_balanced AFTER INSERT ON loyalty_transaction
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION loyalty_transaction_balanced();
CREATE CONSTRAINT TRIGGER loyalty_lotmovement_balanced AFTER INSERT ON loyalty_lotmovement
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION loyalty_transaction_balanced();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS loyalty_lotmovement_balanced ON loyalty_lotmovement;
DROP TRIGGER IF EXISTS loyalty_transaction_balanced ON loyalty_transaction;
DROP FUNCTION IF EXISTS loyalty_transaction_balanced();
"""


def on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)
    return run


class Migration(migrations.Migration):
    dependencies = [("loyalty", "0013_take_back_of_orders_and_bonuses")]

    operations = [migrations.RunPython(on_postgresql(FORWARD), on_postgresql(BACKWARD))]
