import pandas as pd
import plotly.graph_objects as go

df = pd.read_csv("data.csv")

fig = go.Figure(go.Candlestick(
    x=df["date"], open=df["open"], high=df["high"], low=df["low"], close=df["close"],
    increasing_line_color="#2e7d32", decreasing_line_color="#c62828", name="ACME",
))
fig.update_layout(title="Daily Price of ACME Corp (May 2024)", xaxis_title="Date", yaxis_title="Price (USD)",
                  template="plotly_white", width=1000, height=550, xaxis_rangeslider_visible=False)
fig.update_xaxes(rangebreaks=[dict(bounds=["sat", "mon"])])
fig.show()
