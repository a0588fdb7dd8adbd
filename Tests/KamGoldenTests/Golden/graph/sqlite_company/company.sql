-- A CRM with other conventions: CompanyId keys, snake_case references without declared
-- foreign keys (person.company_id), a percentage discount and credit notes.
CREATE TABLE Company (CompanyId INTEGER PRIMARY KEY, LegalName TEXT, Country TEXT);
CREATE TABLE Person (PersonId INTEGER PRIMARY KEY, company_id INTEGER, Name TEXT, BuyingRole TEXT);
CREATE TABLE Invoice (InvoiceNo INTEGER PRIMARY KEY, CompanyId INTEGER, IssueDate TEXT, DueDate TEXT, PaidDate TEXT, Total REAL);
CREATE TABLE InvoiceLine (LineId INTEGER PRIMARY KEY, InvoiceNo INTEGER REFERENCES Invoice (InvoiceNo), Qty INTEGER, Price REAL, DiscountPct REAL);
INSERT INTO Company VALUES (1, 'Acme', 'AT'), (2, 'Beta', 'LV');
INSERT INTO Person VALUES (10, 1, 'Ann', 'decision_maker'), (11, 1, 'Bob', 'user'), (12, 2, 'Cid', 'economic_buyer');
INSERT INTO Invoice VALUES
  (100, 1, '2025-07-10', '2025-08-10', '2025-08-01', 500.0),
  (101, 1, '2026-03-01', '2026-04-01', NULL, 300.0),
  (102, 1, '2026-04-15', '2026-05-15', NULL, -120.0),
  (103, 2, '2025-09-01', '2025-10-01', '2025-09-20', 900.0),
  (104, 2, '2026-05-01', '2026-06-01', NULL, 450.0);
INSERT INTO InvoiceLine VALUES
  (1, 100, 10, 50.0, 0), (2, 101, 6, 50.0, 5), (3, 102, -2, 60.0, 0),
  (4, 103, 9, 100.0, 0), (5, 104, 5, 100.0, 10);
