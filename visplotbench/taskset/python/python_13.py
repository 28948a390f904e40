import pandas as pd
import plotly.express as px

df = pd.read_csv("data.csv")

fig = px.scatter(df, x="price_usd", y="subscribers", size="margin_pct", color="category",
                 hover_name="product", size_max=50, opacity=0.7, template="plotly_white",
                 labels={"price_usd": "Monthly price (USD)", "subscribers": "Monthly subscribers",
                         "category": "Category", "margin_pct": "Margin (%)"},
                 title="Software Products: Price, Subscribers and Margin")
fig.update_traces(marker=dict(line=dict(width=1, color="#333333")))
fig.update_layout(width=900, height=600, legend_title_text="Category")
fig.show()
