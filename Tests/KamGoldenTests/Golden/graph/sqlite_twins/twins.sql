-- Two tables keyed CustomerID (a customer and its notes), orders that name CustomerID
-- without a declared foreign key, and a view that no longer works.
CREATE TABLE Customers (CustomerID TEXT PRIMARY KEY, CompanyName TEXT);
CREATE TABLE CustomerNotes (CustomerID TEXT PRIMARY KEY, Note TEXT);
CREATE TABLE Orders (OrderID INTEGER PRIMARY KEY, CustomerID TEXT, Amount REAL);
CREATE TABLE Scratch (x INTEGER);
CREATE VIEW Stale AS SELECT x FROM Scratch;
DROP TABLE Scratch;
INSERT INTO Customers VALUES ('A', 'Acme'), ('B', 'Beta');
INSERT INTO CustomerNotes VALUES ('B', 'prefers email');
INSERT INTO Orders VALUES (1, 'A', 10), (2, 'B', 20), (3, 'A', 5);
