import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd

df = pd.read_csv("data.csv")
dates = pd.to_datetime(df["date"])

fig, ax = plt.subplots(figsize=(12, 5.5))
ax.fill_between(dates, df["lower"], df["upper"], color="lightblue", alpha=0.3, label="90% interval")
ax.plot(dates, df["forecast"], color="navy", linewidth=2, label="Forecast")
observed = df["actual"].notna()
ax.scatter(dates[observed], df.loc[observed, "actual"], color="black", s=22, zorder=3, label="Actual")

ax.set_title("Daily Demand Forecast with 90% Interval", fontsize=14)
ax.set_xlabel("Date")
ax.set_ylabel("Units sold")
ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
plt.setp(ax.get_xticklabels(), rotation=30, ha="right")
ax.grid(True, alpha=0.3)
ax.legend(loc="upper left")
plt.tight_layout()
plt.show()
