-- Customers split in two tables keyed alike: Orders.CustomerID could be either.
CREATE TABLE CustomersEU (CustomerID TEXT PRIMARY KEY, CompanyName TEXT);
CREATE TABLE CustomersUS (CustomerID TEXT PRIMARY KEY, CompanyName TEXT);
CREATE TABLE Orders (OrderID INTEGER PRIMARY KEY, CustomerID TEXT, Amount REAL);
INSERT INTO CustomersEU VALUES ('A', 'Acme');
INSERT INTO CustomersUS VALUES ('B', 'Beta');
INSERT INTO Orders VALUES (1, 'A', 10), (2, 'B', 20);
