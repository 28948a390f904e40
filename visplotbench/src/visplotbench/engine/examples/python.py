import matplotlib.pyplot as plt
import pandas as pd

df = pd.read_csv("data.csv")
fig, ax = plt.subplots(figsize=(6, 4))
ax.bar(df["fruit"], df["kg"], color="#4C72B0")
ax.set_title("Fruit sold (kg)")
ax.set_ylabel("kg")
plt.show()
