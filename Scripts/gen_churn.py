"""Telco-like customer data with realistic churn drivers, deterministic for a seed (Python's random only).

  gen_churn.py sample DIR          SampleData/churn/customers.csv (3,000 labeled, six month-end snapshots
                                   in its snapshot_date column) and customers_new.csv
                                   (1,000 unlabeled, a little drifted: more month-to-month contracts)
  gen_churn.py kaggle OUT ROWS     the Kaggle Telco layout (customerID, Yes/No strings, blank TotalCharges
                                   as " "), for benchmarks

Churn rises with month-to-month contracts, short tenure (steeply over the first months), high charges on
month-to-month contracts, more than three support calls, electronic checks and fiber; a few total-charge cells are blank (new customers), a few payment methods missing.
"""
import math
import random
import sys


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


SNAPSHOTS = ["2025-07-31", "2025-08-31", "2025-09-30", "2025-10-31", "2025-11-30", "2025-12-31"]


def sample(out_dir):
    for name, rows, seed, labeled, m2m in (("customers", 3000, 11, True, 0.5), ("customers_new", 1000, 12, False, 0.72)):
        rng = random.Random(seed)
        with open(f"{out_dir}/{name}.csv", "w") as f:
            cols = ["customer_id", "contract", "tenure_months", "monthly_charges", "total_charges", "support_calls",
                    "payment_method", "paperless_billing", "internet", "region", "senior"]
            if labeled:
                cols += ["snapshot_date", "churned"]
            f.write(",".join(cols) + "\n")
            for i in range(rows):
                r = rng.random()
                contract = "Month-to-month" if r < m2m else ("One year" if r < m2m + (1 - m2m) / 2 else "Two year")
                tenure = rng.randint(0, 12) if contract == "Month-to-month" and rng.random() < 0.5 else rng.randint(0, 72)
                internet = rng.choice(["Fiber optic", "DSL", "DSL", "None"])
                monthly = round(20 + (45 if internet == "Fiber optic" else 20 if internet == "DSL" else 0) + rng.gauss(15, 10), 2)
                monthly = max(monthly, 18.25)
                total = "" if tenure == 0 else f"{monthly * tenure * rng.uniform(0.95, 1.05):.2f}"
                calls = min(9, int(rng.expovariate(0.8)))
                pay = rng.choice(["Electronic check", "Mailed check", "Bank transfer", "Credit card"])
                if rng.random() < 0.01:
                    pay = ""
                paperless = rng.choice(["Yes", "No"])
                region = rng.choice(["North", "South", "East", "West"])
                senior = 1 if rng.random() < 0.16 else 0
                # Bent effects (risk falls steeply over the first months, then levels off; it jumps after the
                # third support call) and an interaction (high charges drive churn on month-to-month contracts
                # only): what an additive model shows and a linear one misses.
                x = (-0.4 + (1.1 if contract == "Month-to-month" else -0.4 if contract == "One year" else -1.3)
                     - 1.8 * (1 - math.exp(-tenure / 8))
                     + (0.035 if contract == "Month-to-month" else 0.0) * (monthly - 60)
                     + 0.1 * calls + 0.9 * max(0, calls - 3)
                     + (0.45 if pay == "Electronic check" else 0) + (0.35 if internet == "Fiber optic" else 0)
                     + 0.2 * (paperless == "Yes") + 0.25 * senior)
                row = [f"C{100000 + i}", contract, str(tenure), f"{monthly:.2f}", total, str(calls), pay, paperless,
                       internet, region, str(senior)]
                if labeled:
                    # Six month-end snapshots, 500 customers each; the churn label is the month after. Taken from
                    # the row number, not the generator, so the other columns stay as they were.
                    row.append(SNAPSHOTS[i * len(SNAPSHOTS) // rows])
                    row.append("Yes" if rng.random() < sigmoid(x) else "No")
                f.write(",".join(row) + "\n")


def kaggle(out, rows, seed=7):
    rng = random.Random(seed)
    yn = ("Yes", "No")
    with open(out, "w") as f:
        f.write("customerID,gender,SeniorCitizen,Partner,Dependents,tenure,PhoneService,MultipleLines,InternetService,"
                "OnlineSecurity,OnlineBackup,DeviceProtection,TechSupport,StreamingTV,StreamingMovies,Contract,"
                "PaperlessBilling,PaymentMethod,MonthlyCharges,TotalCharges,Churn\n")
        for i in range(rows):
            contract = rng.choices(["Month-to-month", "One year", "Two year"], [0.55, 0.21, 0.24])[0]
            tenure = rng.randint(0, 72)
            phone = rng.random() < 0.9
            internet = rng.choices(["DSL", "Fiber optic", "No"], [0.34, 0.44, 0.22])[0]
            extras = [("No internet service" if internet == "No" else rng.choice(yn)) for _ in range(6)]
            multiple = "No phone service" if not phone else rng.choice(yn)
            monthly = 20 + (50 if internet == "Fiber optic" else 25 if internet == "DSL" else 0) + 5 * extras.count("Yes") + rng.random() * 10
            total = " " if tenure == 0 else f"{monthly * tenure:.2f}"
            pay = rng.choice(["Electronic check", "Mailed check", "Bank transfer (automatic)", "Credit card (automatic)"])
            paperless = rng.choice(yn)
            senior = 1 if rng.random() < 0.16 else 0
            x = (-1.5 + (1.2 if contract == "Month-to-month" else 0) - 0.03 * tenure
                 + (0.6 if internet == "Fiber optic" else 0) + (0.4 if pay == "Electronic check" else 0)
                 - 0.3 * (extras[3] == "Yes") + 0.2 * senior)
            churn = "Yes" if rng.random() < sigmoid(x) else "No"
            f.write(",".join([f"{i:07d}-{chr(65 + i % 26)}{chr(65 + i // 26 % 26)}", rng.choice(["Female", "Male"]), str(senior),
                              rng.choice(yn), rng.choice(yn), str(tenure), "Yes" if phone else "No", multiple, internet,
                              *extras, contract, paperless, f'"{pay}"' if "(" in pay else pay, f"{monthly:.2f}", total,
                              churn]) + "\n")


if sys.argv[1] == "sample":
    sample(sys.argv[2])
else:
    kaggle(sys.argv[2], int(sys.argv[3]))
