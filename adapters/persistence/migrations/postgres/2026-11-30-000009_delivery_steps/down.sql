DROP TABLE delivery_steps;
