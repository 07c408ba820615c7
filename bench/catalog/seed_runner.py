"""Runs the seed's own Flask REST example (extracted from the seed document at bench time)
with the same 60 products the catalog's demo data has, on Flask's built-in threaded server."""
import importlib.util
import logging
import sys

path, port = sys.argv[1], int(sys.argv[2])
spec = importlib.util.spec_from_file_location("seed_rest", path)
seed = importlib.util.module_from_spec(spec)
spec.loader.exec_module(seed)

first = None
for i in range(60):
    product = seed.product_service.create_product(
        {"name": f"Product {i}", "description": "Demo", "price": 10.0 + i, "category_id": f"cat-{i % 5}"}
    )
    first = first or product.id
with open(sys.argv[3], "w") as out:
    out.write(first)

logging.getLogger("werkzeug").setLevel(logging.ERROR)
seed.app.run(host="127.0.0.1", port=port, threaded=True)
