// Dashboard webview entry (browser bundle). Replaced by the dashboard implementation.
export {};
