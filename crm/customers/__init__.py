"""客户档案: customers, vehicles, deliveries (sales) and service visits."""
