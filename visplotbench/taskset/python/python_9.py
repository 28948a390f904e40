import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

df = pd.read_csv("data.csv")

sns.set_theme(style="ticks")
fig, ax = plt.subplots(figsize=(9, 6))
sns.regplot(data=df, x="ad_spend_kusd", y="units_sold", ci=95, ax=ax,
            scatter_kws={"color": "purple", "s": 60, "edgecolor": "white", "alpha": 0.85},
            line_kws={"color": "darkorange", "linewidth": 2.5})
ax.set_title("Advertising Spend vs. Units Sold", fontsize=14)
ax.set_xlabel("Weekly ad spend (thousand USD)")
ax.set_ylabel("Units sold")
sns.despine()
plt.tight_layout()
plt.show()
